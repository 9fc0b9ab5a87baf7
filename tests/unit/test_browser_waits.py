"""Browser waits in the tests must be function expressions.

Playwright evaluates a bare-expression predicate with `eval` on every poll. The pages' CSP
(`script-src 'self'`, no 'unsafe-eval') lets the first check through, because DevTools runs it,
and blocks every later one: such a wait passes when the condition already holds and fails when
it has to poll. A function expression is evaluated once and then only called.
"""

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
FUNCTION = re.compile(r"\s*(async\s+)?(\([^()]*\)|[A-Za-z_$][\w$]*)\s*=>|\s*(async\s+)?function\b")


def is_function_expression(source: str) -> bool:
    return FUNCTION.match(source) is not None


def module_strings(tree: ast.Module) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = node.value.value
    return names


def leading_text(node: ast.expr, names: dict[str, str]) -> str | None:
    """The start of a predicate's source, where the test spells it out; None when it cannot tell."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        return leading_text(node.values[0], names)
    if isinstance(node, ast.Name):
        return names.get(node.id)
    return None


def predicates(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = module_strings(tree)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "wait_for_function"
            and node.args
        ):
            text = leading_text(node.args[0], names)
            if text is not None:
                found.append((node.lineno, text))
    return found


def test_every_wait_for_function_predicate_is_a_function_expression() -> None:
    checked = 0
    bare = []
    for path in sorted(TESTS.rglob("*.py")):
        for line, text in predicates(path):
            checked += 1
            if not is_function_expression(text):
                bare.append(f"{path.relative_to(TESTS)}:{line}: {text.strip()[:60]!r}")
    assert checked >= 20, checked  # the walk found the browser tests
    assert not bare, "bare-expression waits (blocked by CSP when they poll):\n" + "\n".join(bare)


def test_the_check_tells_a_bare_expression_from_a_function(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "P = '() => 1'\n"
        "async def t(page):\n"
        "    await page.wait_for_function('(window.x || 0) >= 1')\n"
        "    await page.wait_for_function(P)\n"
        "    await page.wait_for_function(f'() => {1}')\n",
        encoding="utf-8",
    )
    found = [text for _, text in predicates(sample)]
    assert found == ["(window.x || 0) >= 1", "() => 1", "() => "]
    assert [is_function_expression(text) for text in found] == [False, True, True]
    assert is_function_expression("([s, t]) => s") and is_function_expression("(sel) => sel")
    assert not is_function_expression("Boolean(window.sifaRuling)")
