"""The certification form of notebook 08 (placeholder, filled below)."""


def result_html(result) -> str:
    import html

    return f"<pre>{html.escape(str(result))}</pre>"
