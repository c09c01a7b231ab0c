"""The test kit's real SMTP server (agendum_testing.smtp), under the name the suite imports."""

from agendum_testing.smtp import Mail, SmtpServer  # noqa: F401

__all__ = ["Mail", "SmtpServer"]
