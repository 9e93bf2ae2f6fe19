/** UI languages. Simplified Chinese is the default; English when the browser prefers it. */
export type Lang = 'zh-CN' | 'en';

export const DEFAULT_LANG: Lang = 'zh-CN';

/**
 * Choose the UI language from the browser's preference list (navigator.languages, most
 * preferred first). The first entry that is English or Chinese decides; anything else, or an
 * empty list, gives Simplified Chinese.
 */
export function pickLanguage(preferred: readonly (string | null | undefined)[] | null | undefined): Lang {
  for (const raw of preferred ?? []) {
    const tag = (raw ?? '').trim().toLowerCase();
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
  }
  return DEFAULT_LANG;
}

/** The browser's preference list, robust to old or odd navigators. */
export function browserLanguages(nav: Pick<Navigator, 'languages' | 'language'> | undefined): string[] {
  if (!nav) return [];
  if (nav.languages && nav.languages.length > 0) return [...nav.languages];
  return nav.language ? [nav.language] : [];
}

const zh = {
  tagline: '外勤销售客户管理',
  loginTitle: '登录',
  username: '用户名',
  password: '密码',
  submit: '登录',
  submitting: '正在登录…',
  signedInAs: '已登录：{name}',
  signOut: '退出',
  networkError: '无法连接服务器，请检查网络后重试。',
  httpError: '服务器错误（HTTP {status}）。',
  required: '请输入用户名和密码。',
  switchLang: 'English',
};

const en: typeof zh = {
  tagline: 'CRM for field sales teams',
  loginTitle: 'Sign in',
  username: 'Username',
  password: 'Password',
  submit: 'Sign in',
  submitting: 'Signing in…',
  signedInAs: 'Signed in as {name}',
  signOut: 'Sign out',
  networkError: 'Cannot reach the server. Check the network and try again.',
  httpError: 'Server error (HTTP {status}).',
  required: 'Enter your username and password.',
  switchLang: '中文',
};

export type MessageKey = keyof typeof zh;

export const messages: Record<Lang, Record<MessageKey, string>> = { 'zh-CN': zh, en };

/** Translate a key, filling `{name}` placeholders from params. */
export function t(lang: Lang, key: MessageKey, params: Record<string, string | number> = {}): string {
  return messages[lang][key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}
