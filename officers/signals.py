"""Signals the officers app sends to the apps above it (which it may not import)."""

from django.dispatch import Signal

# Officers placed in a unit for the first time, or moved to another, by a bulk write (the
# import), which sends no post_save: `profile_ids` are their OfficerProfile ids.
officers_placed = Signal()
