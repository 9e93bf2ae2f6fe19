import { describe, expect, it } from 'vitest';
import { browserLanguages, pickLanguage, t } from './i18n';
import { errorFromResponse } from './api';

describe('pickLanguage', () => {
  it('defaults to Simplified Chinese', () => {
    expect(pickLanguage([])).toBe('zh-CN');
    expect(pickLanguage(undefined)).toBe('zh-CN');
    expect(pickLanguage(['fr-FR', 'de'])).toBe('zh-CN');
  });

  it('uses English when the browser prefers English', () => {
    expect(pickLanguage(['en-US', 'zh-CN'])).toBe('en');
    expect(pickLanguage(['EN'])).toBe('en');
    expect(pickLanguage(['fr', 'en-GB', 'zh'])).toBe('en');
  });

  it('keeps Chinese when Chinese comes first', () => {
    expect(pickLanguage(['zh-CN', 'en-US'])).toBe('zh-CN');
    expect(pickLanguage(['zh-TW', 'en'])).toBe('zh-CN');
  });

  it('reads navigator.languages, falling back to navigator.language', () => {
    expect(browserLanguages({ languages: ['en-US'], language: 'zh-CN' })).toEqual(['en-US']);
    expect(browserLanguages({ languages: [], language: 'en' })).toEqual(['en']);
    expect(browserLanguages(undefined)).toEqual([]);
  });
});

describe('t', () => {
  it('fills placeholders', () => {
    expect(t('zh-CN', 'signedInAs', { name: '张宏' })).toBe('已登录：张宏');
    expect(t('en', 'signedInAs', { name: 'Zhang Hong' })).toBe('Signed in as Zhang Hong');
  });
});

describe('errorFromResponse', () => {
  it('takes code and message from the error envelope', () => {
    const e = errorFromResponse(
      401,
      JSON.stringify({ error: { code: 'invalid_credentials', message: '用户名或密码错误', details: {} } }),
    );
    expect(e.status).toBe(401);
    expect(e.code).toBe('invalid_credentials');
    expect(e.message).toBe('用户名或密码错误');
  });

  it('copes with a body that is not the envelope', () => {
    const e = errorFromResponse(502, '<html>Bad Gateway</html>');
    expect(e.code).toBe('http_502');
    expect(e.message).toBe('');
  });
});
