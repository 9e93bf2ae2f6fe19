"""Small assertions shared by the API tests (imported as `api_helpers`)."""
from __future__ import annotations

# SPEC R-C5: the default industry codes and their business lines.
DEFAULT_INDUSTRY_CODES = {
    "video": "INTERNET", "games": "INTERNET", "ecommerce_platform": "INTERNET", "social": "INTERNET",
    "mobile": "INTERNET", "life_services": "INTERNET", "online_education": "INTERNET",
    "online_medical": "INTERNET", "rendering": "INTERNET", "online_other": "INTERNET",
    "finance": "KA", "transport_logistics": "KA", "energy": "KA", "media": "KA", "tech_services": "KA",
    "automotive": "KA", "real_estate": "KA", "robotics_iot": "KA", "manufacturing_b2b": "KA",
    "brand": "RETAIL", "retailer": "RETAIL", "consumer": "RETAIL", "home_furnishing": "RETAIL",
    "manufacturing_b2c": "RETAIL", "brand_ecommerce": "RETAIL", "pharmacy_chain": "RETAIL",
    "government": "PUBLIC", "ministry": "PUBLIC", "industrial_park": "PUBLIC",
    "internet_finance": "KA", "other": "SMB",
}


def error_of(response, status: int, code: str) -> dict:
    """Assert the answer is the one error envelope of SPEC §13 with this status and code;
    return the `error` object."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    return error


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
