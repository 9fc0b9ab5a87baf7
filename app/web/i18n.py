"""Page language: zh-CN first, English second."""

from __future__ import annotations

from aiohttp import web

from app.keys import LANG_KEY

LANGUAGES = ("zh-CN", "en")
COOKIE = "sifa_lang"


def choose_language(request: web.Request) -> str:
    query = request.query.get("lang")
    if query in LANGUAGES:
        return query
    cookie = request.cookies.get(COOKIE)
    if cookie in LANGUAGES:
        return cookie
    accept = request.headers.get("Accept-Language", "")
    first = accept.split(",", 1)[0].strip().lower()
    return "en" if first.startswith("en") else "zh-CN"


def language(request: web.Request) -> str:
    return request.get(LANG_KEY) or choose_language(request)


def pick(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def split_bilingual(message: str, lang: str) -> str:
    """Domain messages read "中文 / English"; pages show the half in the page's language."""
    if " / " not in message:
        return message
    zh, en = message.split(" / ", 1)
    return pick(lang, zh.strip(), en.strip())
