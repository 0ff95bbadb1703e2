// After django-otp-webauthn registers a passkey, reload the Security page so it lists it (and
// shows freshly issued recovery codes).
document.addEventListener("otp_webauthn.register_complete", function () {
  window.location.reload();
});
