"""The one exception a decoder raises for a datagram it cannot decode."""
from __future__ import annotations


class DecodeError(ValueError):
    """A malformed datagram. ``str()`` names the protocol, domain and template id when known."""

    def __init__(self, message, version=None, domain=None, template_id=None):
        self.version = version
        self.domain = domain
        self.template_id = template_id
        context = []
        if version is not None:
            context.append("version=%s" % version)
        if domain is not None:
            context.append("domain=%s" % domain)
        if template_id is not None:
            context.append("template=%s" % template_id)
        if context:
            message = "%s (%s)" % (message, ", ".join(context))
        ValueError.__init__(self, message)
