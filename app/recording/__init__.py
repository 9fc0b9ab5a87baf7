"""Hearing recording: the server's hidden recorder participant, its files and their timeline.

timeline.py, clock.py and recovery.py are pure; writer.py encodes on a thread; probe.py reads a
file back; peer.py is the aiortc participant; service.py ties them to the database, the audit
log and signaling, and settles at start-up what a killed process left recording.
"""
