"""An RP's passkey tests, written the way an RP would: options and verification from py_webauthn
(`webauthn` on PyPI), the browser and authenticator played by `fauxkey serve` over HTTP.

Run: pip install -r requirements.txt; FAUXKEY_BIN=path/to/fauxkey pytest -q
"""

import json

import pytest
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidBackupFlags
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
)

RP_ID = "shop.example"
ORIGIN = "https://shop.example"


def register(fauxkey, user_name="alice"):
    options = generate_registration_options(
        rp_id=RP_ID,
        rp_name="Example Shop",
        user_name=user_name,
        authenticator_selection=AuthenticatorSelectionCriteria(resident_key=ResidentKeyRequirement.REQUIRED),
    )
    response = fauxkey.create(ORIGIN, json.loads(options_to_json(options)))
    assert response.status_code == 200, response.text
    verified = verify_registration_response(
        credential=response.json(),
        expected_challenge=options.challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
    )
    return verified, options.user.id


def login(fauxkey, verified, sign_count, require_user_verification=False):
    options = generate_authentication_options(
        rp_id=RP_ID,
        allow_credentials=[PublicKeyCredentialDescriptor(id=verified.credential_id)],
    )
    response = fauxkey.get(ORIGIN, json.loads(options_to_json(options)))
    assert response.status_code == 200, response.text
    return verify_authentication_response(
        credential=response.json(),
        expected_challenge=options.challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        credential_public_key=verified.credential_public_key,
        credential_current_sign_count=sign_count,
        require_user_verification=require_user_verification,
    )


def test_register_then_log_in(fauxkey):
    verified, _ = register(fauxkey)
    first = login(fauxkey, verified, verified.sign_count)
    second = login(fauxkey, verified, first.new_sign_count)
    assert first.credential_id == verified.credential_id
    assert second.new_sign_count > first.new_sign_count


def test_discoverable_login_returns_the_user_handle(fauxkey):
    verified, user_id = register(fauxkey, "bob")
    options = generate_authentication_options(rp_id=RP_ID)  # no allow list
    response = fauxkey.get(ORIGIN, json.loads(options_to_json(options)))
    assert response.status_code == 200, response.text
    assert base64url_to_bytes(response.json()["response"]["userHandle"]) == user_id
    assert base64url_to_bytes(response.json()["rawId"]) == verified.credential_id


# Every fault fauxkey can inject, and what py_webauthn raises for it.
FAULTS = {
    "bad-signature": InvalidAuthenticationResponse,
    "up-cleared": InvalidAuthenticationResponse,
    "uv-cleared": InvalidAuthenticationResponse,  # with require_user_verification=True
    "counter-backwards": InvalidAuthenticationResponse,
    "wrong-rp-id-hash": InvalidAuthenticationResponse,
    "bs-without-be": InvalidBackupFlags,
    "wrong-type": InvalidAuthenticationResponse,
    "wrong-challenge": InvalidAuthenticationResponse,
    "wrong-origin": InvalidAuthenticationResponse,
}


@pytest.mark.parametrize("fault", FAULTS)
def test_the_rp_rejects_a_faulty_login(fauxkey, fault):
    verified, _ = register(fauxkey)
    # One clean login first, so that the counter has something to go backwards from.
    count = login(fauxkey, verified, verified.sign_count).new_sign_count
    fauxkey.inject_fault(fault)
    with pytest.raises(FAULTS[fault]):
        login(fauxkey, verified, count, require_user_verification=True)
    # The fault was used up: the next login verifies again.
    login(fauxkey, verified, count, require_user_verification=True)


def test_a_foreign_origin_gets_security_error(fauxkey):
    options = generate_registration_options(rp_id=RP_ID, rp_name="Example Shop", user_name="eve")
    response = fauxkey.create("https://evil.example", json.loads(options_to_json(options)))
    assert response.status_code == 403
    assert response.json()["name"] == "SecurityError"


def test_no_passkey_means_not_allowed(fauxkey):
    options = generate_authentication_options(rp_id=RP_ID)
    response = fauxkey.get(ORIGIN, json.loads(options_to_json(options)))
    assert response.status_code == 403
    assert response.json()["name"] == "NotAllowedError"
