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

import { errorText, formatMoney, parseYuanToFen } from './i18n';

describe('formatting', () => {
  it('formats fen as yuan per locale', () => {
    expect(formatMoney('zh-CN', 123456789)).toBe('¥1,234,567.89');
    expect(formatMoney('en', 5)).toContain('0.05');
  });
  it('parses typed yuan to integer fen', () => {
    expect(parseYuanToFen('1,234.5')).toBe(123450);
    expect(parseYuanToFen('0.07')).toBe(7);
    expect(parseYuanToFen('abc')).toBeNull();
  });
  it('localizes error codes', () => {
    expect(errorText('zh-CN', { code: 'quota_exceeded', details: { count: 50, limit: 50 } })).toBe('客户数量已达上限（50/50）');
    expect(errorText('en', { code: 'not_in_pool' })).toContain('no longer in the pool');
  });
});
