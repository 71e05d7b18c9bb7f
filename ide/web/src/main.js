// The gateway's GraphQL IDE: GraphiQL, configured by the JSON block that the
// Go handler (package ide) writes into the page. Everything it needs is in
// this bundle, and its only requests go to the gateway's GraphQL endpoint.
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import './page.css';

const config = JSON.parse(document.getElementById('ide-config').textContent);

// errorResult turns an answer that is not GraphQL JSON into a result that
// the response pane can show.
function errorResult(status, text) {
  return { errors: [{ message: `HTTP ${status}: ${text.slice(0, 500)}` }] };
}

// fetcher posts the operation to the gateway with the headers typed into the
// headers editor (for example Authorization), on the page's own origin.
async function fetcher(params, opts) {
  const response = await fetch(config.endpoint, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { Accept: 'application/json', ...opts?.headers, 'Content-Type': 'application/json' },
    body: JSON.stringify(params),
  });
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return errorResult(response.status, text);
  }
}

// showDocs opens the Documentation Explorer the way a user does, with its
// sidebar button: GraphiQL 4 mounts its plugin pane collapsed even when the
// visiblePlugin prop names a plugin. The button appears once GraphiQL has
// registered its plugins, so the click cannot be undone by that set-up.
function showDocs(framesLeft) {
  const button = document.querySelector('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]');
  if (button) {
    button.click();
  } else if (framesLeft > 0) {
    requestAnimationFrame(() => showDocs(framesLeft - 1));
  }
}

createRoot(document.getElementById('graphiql')).render(
  createElement(
    GraphiQL,
    {
      fetcher,
      defaultTabs: config.tabs,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: false,
      showPersistHeadersSettings: false,
    },
    createElement(GraphiQL.Logo, null, config.title),
  ),
);
showDocs(600);
