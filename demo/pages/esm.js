// The ES module demo: a framework-free single-page app that imports the widget and drives its
// instance API (README "ES module", "Instance API and events"). External file, so the page runs
// under a CSP without 'unsafe-inline'.
import { mount } from '/dist/codegpt-widget.js';

const app = document.getElementById('app');
const log = document.getElementById('log');
const status = document.getElementById('status');
// The demo server rewrites this attribute when it talks to a real CodeGPT agent.
const agentId = app.dataset.agentId;

/** The live instance (a `ChatWidget`); its `element` is null once destroyed. */
let chat;
let mounts = 0;

function note(event, text) {
  const item = document.createElement('li');
  const name = document.createElement('span');
  name.className = 'event';
  name.textContent = event;
  item.append(name, text ? ` ${text}` : '');
  item.dataset.event = event;
  log.prepend(item);
}

function excerpt(text, max = 90) {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function start() {
  chat?.destroy();
  mounts += 1;
  chat = mount({
    agentId,
    tokenEndpoint: '/api/codegpt/token',
    title: 'Acme assistant',
    welcome: 'Ask me about codegpt-widget: how to install it, theme it, or run the token broker.',
    suggestions: ['How do I use it as an ES module?', 'How do I listen to events?', 'What about dark mode?'],
  });
  chat.on('open', () => note('open'));
  chat.on('close', () => note('close'));
  chat.on('send', ({ text }) => note('send', excerpt(text)));
  chat.on('answer', ({ message }) => note('answer', `[${message.state}] ${excerpt(message.content)}`));
  chat.on('error', ({ code }) => note('error', code));
  note('mount', `#${mounts}`);
  render();
}

function render() {
  const alive = !!chat?.element;
  status.textContent = alive ? `Mounted (instance #${mounts}, agent ${agentId}).` : 'Destroyed. Mount again to start over.';
  for (const button of document.querySelectorAll('[data-action]')) {
    button.disabled = button.dataset.action !== 'mount' && !alive;
  }
}

const actions = {
  open: () => chat?.open(),
  close: () => chat?.close(),
  reset: () => {
    chat?.reset();
    note('reset');
  },
  destroy: () => {
    chat?.destroy();
    note('destroy');
  },
  mount: start,
};

for (const button of document.querySelectorAll('[data-action]')) {
  button.addEventListener('click', () => {
    actions[button.dataset.action]?.();
    render();
  });
}

// "Routes": show one view, mark its button; the chat instance is untouched.
function go(route) {
  for (const view of document.querySelectorAll('[data-view]')) view.hidden = view.dataset.view !== route;
  for (const button of document.querySelectorAll('[data-route]')) {
    if (button.dataset.route === route) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
}
for (const button of document.querySelectorAll('[data-route]')) {
  button.addEventListener('click', () => go(button.dataset.route));
}

start();
