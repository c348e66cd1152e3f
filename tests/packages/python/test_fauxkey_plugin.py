"""An RP's pytest suite that uses only the `fauxkey` fixture of the installed package (no conftest),
with py_webauthn (`webauthn` on PyPI) as the relying party. Run by tests/packages_e2e.rs in a
fresh venv where `pip install` put the fauxkey wheel.
"""

import json

import pytest
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
)

import fauxkey as fauxkey_package

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
    verified = verify_registration_response(
        credential=response,
        expected_challenge=options.challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
    )
    return verified, options.user.id


def login_options(verified):
    return generate_authentication_options(
        rp_id=RP_ID,
        allow_credentials=[PublicKeyCredentialDescriptor(id=verified.credential_id)],
    )


def verify_login(options, response, verified, sign_count):
    return verify_authentication_response(
        credential=response,
        expected_challenge=options.challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        credential_public_key=verified.credential_public_key,
        credential_current_sign_count=sign_count,
    )


def test_register_and_log_in_twice(fauxkey):
    verified, _ = register(fauxkey)
    count = verified.sign_count
    for _ in range(2):
        options = login_options(verified)
        login = verify_login(options, fauxkey.get(ORIGIN, json.loads(options_to_json(options))), verified, count)
        assert login.new_sign_count > count
        count = login.new_sign_count


def test_isolation_each_test_starts_empty(fauxkey):
    # The test above registered a passkey; the fixture reset the server, so none is left.
    assert fauxkey.credentials() == []
    options = generate_authentication_options(rp_id=RP_ID)
    with pytest.raises(fauxkey_package.FauxkeyError) as refused:
        fauxkey.get(ORIGIN, json.loads(options_to_json(options)))
    assert refused.value.name == "NotAllowedError"


def test_a_fault_is_rejected_by_the_rp(fauxkey):
    verified, _ = register(fauxkey)
    fauxkey.inject_fault("bad-signature")
    options = login_options(verified)
    response = fauxkey.get(ORIGIN, json.loads(options_to_json(options)))
    with pytest.raises(InvalidAuthenticationResponse):
        verify_login(options, response, verified, verified.sign_count)
    # The fault applied to one response only.
    options = login_options(verified)
    verify_login(options, fauxkey.get(ORIGIN, json.loads(options_to_json(options))), verified, verified.sign_count)


def test_a_signal_hides_the_passkey(fauxkey):
    verified, _ = register(fauxkey)
    fauxkey.signal_unknown_credential(ORIGIN, RP_ID, bytes_to_base64url(verified.credential_id))
    options = login_options(verified)
    with pytest.raises(fauxkey_package.FauxkeyError) as refused:
        fauxkey.get(ORIGIN, json.loads(options_to_json(options)))
    assert refused.value.name == "NotAllowedError"
    assert any(event.get("signal") == "unknownCredential" or "unknown" in json.dumps(event).lower()
               for event in fauxkey.events())


def test_the_user_refuses(fauxkey):
    verified, _ = register(fauxkey)
    fauxkey.set_user(presence=False)
    options = login_options(verified)
    with pytest.raises(fauxkey_package.FauxkeyError) as refused:
        fauxkey.get(ORIGIN, json.loads(options_to_json(options)))
    assert refused.value.name == "NotAllowedError"


def test_a_wrong_origin_is_a_security_error(fauxkey):
    options = generate_registration_options(rp_id=RP_ID, rp_name="Example Shop", user_name="bob")
    with pytest.raises(fauxkey_package.FauxkeyError) as refused:
        fauxkey.create("https://evil.example", json.loads(options_to_json(options)))
    assert refused.value.name == "SecurityError"


@pytest.mark.fauxkey(profile="yubikey-5", seed=7)
def test_profile_and_seed_per_test(fauxkey):
    verified, _ = register(fauxkey)
    # The seed makes the run reproducible: after a reset, the same seed gives the same keys.
    fauxkey.reset()
    again, _ = register(fauxkey)
    assert again.credential_id == verified.credential_id
    assert all(isinstance(v, bool) for v in fauxkey.capabilities().values())


def test_the_default_server_is_not_the_marked_one(fauxkey, fauxkey_server_factory):
    assert fauxkey is not fauxkey_server_factory(profile="yubikey-5", seed=7)
    assert fauxkey.url != fauxkey_server_factory(profile="yubikey-5", seed=7).url


def test_conditional_mediation_waits_for_the_autofill_pick(fauxkey):
    verified, user_id = register(fauxkey)
    options = generate_authentication_options(rp_id=RP_ID)
    pending = fauxkey.get_conditional(ORIGIN, json.loads(options_to_json(options)))
    assert fauxkey.conditional_result(pending) is None
    [listed] = fauxkey.conditional_requests()
    assert listed["id"] == pending and listed["offers"][0]["userName"] == "alice"
    fauxkey.conditional_dismiss(pending)
    assert fauxkey.conditional_result(pending) is None
    picked = fauxkey.conditional_pick(pending, 0)
    assert fauxkey.conditional_result(pending) == picked
    verify_login(options, picked, verified, verified.sign_count)
    # Aborted: the page gets AbortError; a conditional create needs a password sign-in first.
    pending = fauxkey.get_conditional(ORIGIN, json.loads(options_to_json(options)))
    fauxkey.conditional_abort(pending)
    with pytest.raises(fauxkey_package.FauxkeyError) as aborted:
        fauxkey.conditional_result(pending)
    assert aborted.value.name == "AbortError"
    upgrade = json.loads(options_to_json(generate_registration_options(rp_id=RP_ID, rp_name="Shop", user_name="carol")))
    with pytest.raises(fauxkey_package.FauxkeyError) as refused:
        fauxkey.create_conditional(ORIGIN, upgrade)
    assert refused.value.name == "NotAllowedError"
    fauxkey.password_sign_in(RP_ID, "carol")
    assert fauxkey.create_conditional(ORIGIN, upgrade)["type"] == "public-key"
