import { render } from 'preact';
import { App } from './app';
import { loadSession, startLiveView, startSyncLoop } from './state';
import { registerPwa } from './pwa';
import './style.css';

(async () => {
  await loadSession();
  startLiveView();
  render(<App />, document.getElementById('app')!);
  startSyncLoop();
  registerPwa();
})();
