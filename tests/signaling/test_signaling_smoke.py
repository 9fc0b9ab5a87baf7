from __future__ import annotations

import aiohttp

from signaling_helpers import CASE, JUDGE_ID, Client, Stack, token


async def test_judge_admits_kiosk(stack: Stack) -> None:
    async with aiohttp.ClientSession() as session:
        judge, kiosk = Client(session, stack.ws_url), Client(session, stack.ws_url)
        await judge.connect()
        await kiosk.connect()
        w = await judge.join(token(JUDGE_ID, "judge"), CASE)
        assert w["you"]["admitted"] is True
        w = await kiosk.join(token("kiosk-1", "kiosk"), CASE)
        assert w["you"]["admitted"] is False
        p = await judge.expect("presence", event="joined")
        assert p["participant"]["id"] == "kiosk-1"
        await judge.send({"type": "admit", "participant": "kiosk-1"})
        a = await kiosk.expect("admitted")
        assert [x["id"] for x in a["participants"]] == [JUDGE_ID]
        await kiosk.send(
            {"type": "signal", "to": JUDGE_ID, "description": {"type": "offer", "sdp": "v=0"}}
        )
        s = await judge.expect("signal")
        assert s["from"] == "kiosk-1"
        await judge.close()
        await kiosk.close()
