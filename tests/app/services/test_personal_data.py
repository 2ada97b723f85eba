"""Who sees assisted-collection details (app/services/personal_data.py): planners, approvers and admins get
bins as stored; a viewer gets the flag as yes/no and no health, contact or free-text attribute."""

from __future__ import annotations

from typing import Any

from app.api.principal import ROLES, Principal
from app.services import uploads
from app.services.personal_data import DETAIL_ROLES, REDACTED_MARK, is_detail, redact_for

HOUSEHOLDS_CSV = (
    b"uprn,lon,lat,bin_size,address,assisted,notes,assisted_reason,carer_phone,colour\n"
    b"100012345678,7.4200,43.7350,240,1 Rue Grimaldi,yes,resident uses a wheelchair,dementia,07700 900123,green\n"
    b"100012345679,7.4210,43.7352,240,3 Rue Grimaldi,no,dog in garden,,,grey\n"
)
"""Two households as a council's file: one assisted, with the reason and a carer's number."""
DETAIL_TEXTS = ("wheelchair", "dementia", "07700 900123", "dog in garden")


def reader(*roles: str) -> Principal:
    """A principal of tenant ``town`` holding ``roles``."""
    return Principal(tenant="town", user_id="u-1", name="Reader", roles=frozenset(roles), via="api_key")


def uploaded_problem() -> dict[str, Any]:
    """A problem body whose bins are the households as the upload reads them (attributes as it keeps them)."""
    read = uploads.read_bins_file(HOUSEHOLDS_CSV, filename="households.csv", crs=None, bin_sizes=None, streams=None)
    return {"bins": [b.model_dump(mode="json", exclude_none=True) for b in read.bins], "options": {"seed": 0}}


def test_the_detail_roles_are_roles_of_the_service() -> None:
    """The roles named here are the principal's roles (this layer may not import them)."""
    assert set(ROLES) >= DETAIL_ROLES and "viewer" not in DETAIL_ROLES


def test_planners_approvers_and_admins_get_the_bins_as_stored() -> None:
    """For each detail role the document comes back unchanged, details included."""
    problem = uploaded_problem()
    assert "dementia" in str(problem)
    for role in sorted(DETAIL_ROLES):
        assert redact_for(reader(role), problem) == problem


def test_a_viewer_gets_the_flag_but_no_detail() -> None:
    """A viewer's copy keeps ids, positions, address, UPRN, bin size and ``assisted`` (true for the first
    household, false for the second), drops notes, the reason and the carer's phone, and says how many
    attributes were held back; the stored document is left as it was."""
    problem = uploaded_problem()
    shown = redact_for(reader("viewer"), problem)
    first, second = shown["bins"]
    assert first["attributes"]["assisted"] is True and second["attributes"]["assisted"] is False
    assert first["attributes"]["uprn"] == "100012345678" and first["attributes"]["address"] == "1 Rue Grimaldi"
    assert first["attributes"]["colour"] == "green" and first["id"] == problem["bins"][0]["id"]
    assert first[REDACTED_MARK] == 3 and second[REDACTED_MARK] >= 1
    assert not any(text in str(shown) for text in DETAIL_TEXTS)
    assert shown["options"] == problem["options"] and "dementia" in str(problem)


def test_a_text_flag_becomes_yes_or_no_and_no_role_means_no_detail() -> None:
    """``assisted: "Y"`` reads as true (as the round book reads it); a principal without roles is redacted."""
    bins = {"bins": [{"id": "b1", "attributes": {"assisted_collection": "Y", "medical_condition": "COPD"}}]}
    shown = redact_for(reader(), bins)
    assert shown["bins"][0]["attributes"] == {"assisted_collection": True}


def test_which_attribute_names_are_detail() -> None:
    """Health, contact and free-text names are detail; the flag, addresses and bin facts are not."""
    assert all(is_detail(n) for n in ("Notes", "assisted_reason", "Medical Needs", "carer_phone", "Contact Name",
                                      "resident_email", "disability"))
    assert not any(is_detail(n) for n in ("assisted", "ASSISTED_COLLECTION", "uprn", "address", "street",
                                          "bin_size", "postcode", "round", "day"))
