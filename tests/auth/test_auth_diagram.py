from labkit.auth import AuthFlow


def test_auth_flow_has_svg_and_text_fallback():
    flow = AuthFlow()
    svg = flow._repr_html_()
    assert svg.count("<rect") == 5 and "auth/&lt;mount&gt;/login" in svg
    assert "Credential -> Auth method -> Token -> Every request" in repr(flow)
