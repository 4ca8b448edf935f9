#!/usr/bin/env python
"""Django's command-line utility. The project package `pathways` is the site/ folder."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pathways.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
