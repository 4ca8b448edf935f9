"""The hooks apps above certificates use. Training listens to `certificate_revoked`."""

from django.dispatch import Signal

# Sent once per revocation, inside the transaction that records it, with `certificate`
# (certificates.models.Certificate; revoked_at, revoked_by and revoke_reason are set).
certificate_revoked = Signal()
