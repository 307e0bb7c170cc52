"""The message layer: hostile bytes in; a bounded lxml tree with its AppHdr and Document out, or a Rejection."""
