"""Hearing recording: the server's hidden recorder participant, its files and their timeline.

timeline.py and clock.py are pure; writer.py encodes on a thread; peer.py is the aiortc
participant; service.py ties them to the database, the audit log and signaling.
"""
