"""The message layer: hostile bytes in; a typed command (or the ISO 20022 rejections that refuse it) out, through
bounded parsing, envelope, XSD, readers, usage-guideline and business rules (intake.py); answers written back as
ISO 20022 XML (writers/)."""
