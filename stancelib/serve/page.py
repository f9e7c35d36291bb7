"""The page at ``/``: paste an article, see the report of ``stancelib predict --html``.

The page posts the text to ``/v1/report`` and shows the returned HTML
(``stancelib.report.render_html``) in a sandboxed iframe (the report needs no scripts).
``/#doc=<url-encoded text>`` fills the box and runs at once, which is how the screenshot
test drives it. With auth on, the page asks for the token and sends it as a bearer token.
"""

from __future__ import annotations

import html

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>stancelib</title>
<style>
body { font: 15px system-ui, sans-serif; margin: 1.5em auto; max-width: 60em; padding: 0 1em; color: #222; }
textarea { width: 100%; height: 12em; font: 14px/1.4 Georgia, serif; box-sizing: border-box; }
iframe { width: 100%; height: 75vh; border: 1px solid #ccc; margin-top: 1em; }
#error { color: #b00020; } .row { margin: .5em 0; } .hidden { display: none; }
</style></head>
<body>
<h1>stancelib</h1>
<p>Paste a news article: every sentence is labelled as a neutral report, an attributed statement
or an unattributed claim. Model: <code>__MODEL__</code>.</p>
<textarea id="doc" placeholder="Paste an article here"></textarea>
<div class="row __TOKEN_CLASS__">Token: <input id="token" type="password" size="40"></div>
<div class="row"><button id="go">Analyse</button> <span id="error"></span></div>
<iframe id="report" sandbox="" title="report"></iframe>
<script>
const $ = (id) => document.getElementById(id);
async function analyse() {
  $("error").textContent = "";
  const headers = {"Content-Type": "application/json"};
  if ($("token").value) headers["Authorization"] = "Bearer " + $("token").value;
  try {
    const r = await fetch("v1/report", {method: "POST", headers, body: JSON.stringify({document: $("doc").value})});
    const body = await r.text();
    if (!r.ok) { $("error").textContent = JSON.parse(body).error.message; return; }
    $("report").srcdoc = body;
  } catch (e) { $("error").textContent = String(e); }
}
$("go").addEventListener("click", analyse);
if (location.hash.startsWith("#doc=")) { $("doc").value = decodeURIComponent(location.hash.slice(5)); analyse(); }
</script>
</body></html>
"""


def render_page(model_name: str, auth: bool) -> str:
    return _PAGE.replace("__MODEL__", html.escape(model_name)).replace("__TOKEN_CLASS__", "" if auth else "hidden")
