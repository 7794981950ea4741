#!/usr/bin/env python
"""Django's command-line utility for the Gyroscops audit trail.

``rundemo`` (``make run``) runs on :mod:`gyroscops.demo_settings` (a stable demo
signing key, see there), every other command on :mod:`gyroscops.settings`,
unless ``DJANGO_SETTINGS_MODULE`` says otherwise.
"""

import os
import sys


def main() -> None:
    demo = sys.argv[1:2] == ["rundemo"]
    os.environ.setdefault(
        "DJANGO_SETTINGS_MODULE", "gyroscops.demo_settings" if demo else "gyroscops.settings"
    )
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
