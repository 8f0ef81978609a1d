"""Hostile: fails to import with an error made of terminal escape sequences.

The message erases the report's verdict line and draws a green "PASSED" verdict in
its place, if a report prints it raw.
"""

ERASE = "\r\x1b[2K\x1b[1A\x1b[2K\x1b[32;1m"
Sneaky = type("\x1b[2K\x1b[32mPASSED", (Exception,), {})
raise Sneaky(ERASE + "PASSED: Passed: every required test and metric passed.\x1b[0m\x1b[8m")
