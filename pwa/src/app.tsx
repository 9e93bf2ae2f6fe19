import { useEffect, useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import { ApiError, NetworkError, login, type LoginResponse } from './api';
import { browserLanguages, pickLanguage, t, type Lang } from './i18n';

type Status =
  | { kind: 'idle' }
  | { kind: 'submitting' }
  | { kind: 'error'; message: string }
  | { kind: 'signed-in'; session: LoginResponse };

function errorText(lang: Lang, e: unknown): string {
  if (e instanceof ApiError) return e.message || t(lang, 'httpError', { status: e.status });
  if (e instanceof NetworkError) return t(lang, 'networkError');
  return t(lang, 'networkError');
}

export function App() {
  const [lang, setLang] = useState<Lang>(() =>
    pickLanguage(browserLanguages(typeof navigator === 'undefined' ? undefined : navigator)),
  );
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [status, setStatus] = useState<Status>({ kind: 'idle' });

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = 'fieldcrm';
  }, [lang]);

  async function onSubmit(ev: TargetedEvent<HTMLFormElement, Event>) {
    ev.preventDefault();
    if (!username.trim() || !password) {
      setStatus({ kind: 'error', message: t(lang, 'required') });
      return;
    }
    setStatus({ kind: 'submitting' });
    try {
      const session = await login(username.trim(), password, lang);
      setPassword('');
      setStatus({ kind: 'signed-in', session });
    } catch (e) {
      setStatus({ kind: 'error', message: errorText(lang, e) });
    }
  }

  const busy = status.kind === 'submitting';

  return (
    <main class="shell">
      <header class="brand">
        <h1>fieldcrm</h1>
        <p>{t(lang, 'tagline')}</p>
        <button
          type="button"
          class="link"
          data-testid="switch-lang"
          onClick={() => setLang(lang === 'en' ? 'zh-CN' : 'en')}
        >
          {t(lang, 'switchLang')}
        </button>
      </header>

      {status.kind === 'signed-in' ? (
        <section class="card" aria-live="polite">
          <p class="ok" data-testid="signed-in">
            {t(lang, 'signedInAs', { name: status.session.user.display_name })}
          </p>
          <button type="button" onClick={() => setStatus({ kind: 'idle' })}>
            {t(lang, 'signOut')}
          </button>
        </section>
      ) : (
        <form class="card" onSubmit={onSubmit} noValidate>
          <h2>{t(lang, 'loginTitle')}</h2>
          <label>
            {t(lang, 'username')}
            <input
              name="username"
              autocomplete="username"
              autocapitalize="off"
              spellcheck={false}
              value={username}
              onInput={(e) => setUsername(e.currentTarget.value)}
              disabled={busy}
            />
          </label>
          <label>
            {t(lang, 'password')}
            <input
              name="password"
              type="password"
              autocomplete="current-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              disabled={busy}
            />
          </label>
          {status.kind === 'error' && (
            <p class="error" role="alert" data-testid="login-error">
              {status.message}
            </p>
          )}
          <button type="submit" disabled={busy}>
            {busy ? t(lang, 'submitting') : t(lang, 'submit')}
          </button>
        </form>
      )}
    </main>
  );
}
