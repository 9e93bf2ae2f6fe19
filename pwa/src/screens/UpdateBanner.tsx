/** "New version — reload" (waits for the sync round; the outbox stays in IndexedDB) and the install hint. */
import { useState } from 'preact/hooks';
import { installHintWanted, installLater, installPrompt, reloadIntoUpdate, updateReady, updating } from '../pwa';
import { counts, useSignal } from '../state';
import { useT } from './ui';

export function UpdateBanner() {
  const { tr } = useT();
  const ready = useSignal(updateReady);
  const busy = useSignal(updating);
  const c = useSignal(counts);
  const prompt = useSignal(installPrompt);
  const [hint, setHint] = useState(() => installHintWanted());
  if (ready) {
    return (
      <div class="banner update" role="status" data-testid="update-banner">
        <span>{busy ? tr('updateWaiting') : tr('updateReload')}</span>
        {!busy && <button onClick={() => void reloadIntoUpdate()} data-testid="update-reload">↻ {tr('reloadNow')}</button>}
        {!busy && <button class="secondary" onClick={() => updateReady.set(false)}>{tr('later')}</button>}
        {c.outbox > 0 && <span class="small note">{tr('updateKeeps')}</span>}
      </div>
    );
  }
  if (prompt && hint) {
    return (
      <div class="banner install" data-testid="install-hint">
        <span>{tr('installHint')}</span>
        <button class="small" onClick={async () => { await prompt.prompt(); installPrompt.set(null); }}>{tr('installNow')}</button>
        <button class="small secondary" onClick={() => { installLater(); setHint(false); }}>{tr('later')}</button>
      </div>
    );
  }
  return null;
}
