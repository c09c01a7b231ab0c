"""The portal's own refusals (the rest are core's typed errors)."""

from core.errors import DomainError


class NotSignedIn(DomainError):
    """The request carries no valid portal session."""

    def __init__(self) -> None:
        super().__init__("Please sign in to the client portal.")


class EmailNotVerified(DomainError):
    """Right password, but the email address is not confirmed yet (a new link is on its way)."""

    def __init__(self) -> None:
        super().__init__("Please confirm your email address first: we have sent you a link.")


class PasswordSignInRequired(DomainError):
    """A session started from an action link cannot change the password or the profile."""

    def __init__(self) -> None:
        super().__init__(
            "You came in from the link in an email. To change your password or your details, "
            "sign out and sign in with your email and password."
        )
