"""placeholder"""
API_KEY = "freshdesk-api-key"


class FakeFreshdesk:
    pass
