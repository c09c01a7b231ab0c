"""Every page of the client portal, under /portal/{slug}."""

from plugins.client_portal.routes_account import ROUTES as ACCOUNT_ROUTES
from plugins.client_portal.routes_booking import ROUTES as BOOKING_ROUTES

ROUTES = [*BOOKING_ROUTES, *ACCOUNT_ROUTES]
