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
  signOut: '退出登录',
  networkError: '无法连接服务器，请检查网络后重试。',
  httpError: '服务器错误（HTTP {status}）。',
  required: '请输入用户名和密码。',
  switchLang: 'English',
  reauthTitle: '登录已过期',
  reauthBody: '请重新输入密码以继续同步。本机数据不会丢失。',
  today: '今日',
  customers: '我的客户',
  pool: '公海',
  sync: '同步',
  settings: '设置',
  more: '更多',
  pending: '待同步 {n}',
  lastSync: '上次同步 {when}',
  neverSynced: '尚未同步',
  offline: '离线',
  syncing: '同步中…',
  syncNow: '立即同步',
  uploadingPhotos: '上传照片 {done}/{total}',
  pushing: '提交 {done}/{total}',
  pulling: '接收数据 {done}/{total}',
  search: '搜索名称、编码、拼音首字母',
  all: '全部',
  owned: '我负责的',
  coFollowed: '联合跟进',
  shared: '共享给我',
  status: '状态',
  grade: '等级',
  reclaimSoon: '即将回收',
  daysLeft: '{n} 天后回收',
  codePending: '编码待分配',
  noCustomers: '没有客户',
  newCustomer: '新建客户',
  name: '名称',
  type: '类型',
  industry: '行业',
  region: '区域',
  address: '地址',
  location: '位置',
  useMyPosition: '使用当前位置',
  taxId: '统一社会信用代码',
  contact: '联系人',
  contactName: '联系人姓名',
  contactTitle: '职务',
  mobile: '手机',
  save: '保存',
  cancel: '取消',
  duplicateWarning: '已有相似客户：',
  alreadyProtected: '已被保护',
  inPool: '在{pool}池',
  offlineDupNote: '当前离线：重名检查将在联网后进行。',
  savedOffline: '已保存，将在联网后同步。',
  profile: '资料',
  missingFields: '缺少字段：{fields}',
  contacts: '联系人',
  timeline: '动态',
  opportunities: '商机',
  accounts: '客户账号',
  history: '变更记录',
  checkIn: '拜访签到',
  followUp: '写跟进',
  takePhoto: '拍照',
  photos: '照片 {n} 张',
  position: '位置',
  locating: '正在定位…',
  accuracy: '精度 {m} 米',
  noPosition: '无法获取位置',
  purpose: '拜访目的',
  result: '拜访结果',
  nextStep: '下一步',
  visit: '拜访',
  verification: '核验',
  kind: '方式',
  content: '内容',
  nextContact: '下次联系时间',
  claim: '申领',
  claimed: '已申领（待同步）',
  poolOnline: '公海需要联网浏览',
  rejections: '被拒绝的操作',
  noRejections: '没有被拒绝的操作',
  discard: '放弃',
  editRetry: '修改后重试',
  requestInstead: '改为申请',
  needsOnline: '此操作需要联网',
  language: '语言',
  logoutWarn: '还有 {n} 项未同步的工作。退出将永久丢弃这些工作。确定退出吗？',
  logoutConfirm: '仍然退出',
  logoutSafe: '确定退出登录吗？',
  installHint: '添加到主屏幕，离线时也能使用',
  install: '安装',
  updateReady: '有新版本',
  update: '更新',
  storagePersisted: '本机存储已设为持久',
  storageNotPersisted: '浏览器可能在空间不足时清除数据，请安装到主屏幕',
  reminders: '提醒',
  dueFollowUps: '今日到期跟进',
  reclaimWarnings: '回收预警',
  notifications: '通知',
  nothingToday: '今天没有待办',
  stage: '阶段',
  amount: '金额',
  deal: '成交',
  payment: '回款',
  dailyReport: '销售日报',
  targets: '我的指标',
  summary: '今日总结',
  plan: '明日计划',
  rejectedBecause: '被拒绝：{reason}',
  owner: '负责人',
  code: '编码',
  visits: '拜访次数',
  lastVisit: '最近拜访',
  back: '返回',
  pendingBadge: '待同步',
  required_: '必填',
  v_pending: '待核验',
  v_verified: '已核验',
  v_unverified: '未核验',
  v_suspect: '可疑',
  v_waiting: '同步后核验',
  st_potential: '潜在',
  st_intent: '意向',
  st_signed: '成交',
  st_lost: '流失',
  t_direct: '直客',
  t_distributor: '渠道/分销',
  fk_visit: '拜访',
  fk_phone: '电话',
  fk_email: '邮件',
  fk_wechat: '微信',
  fk_other: '其他',
  invalidFollowUp: '无效跟进',
  nameTooShort: '名称至少 2 个字',
  fillRequired: '请填写必填项',
  transferredAway: '已移出',
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
  reauthTitle: 'Session expired',
  reauthBody: 'Enter your password again to keep syncing. Nothing on this phone is lost.',
  today: 'Today',
  customers: 'My customers',
  pool: 'Pools',
  sync: 'Sync',
  settings: 'Settings',
  more: 'More',
  pending: '{n} pending',
  lastSync: 'Last sync {when}',
  neverSynced: 'Never synced',
  offline: 'Offline',
  syncing: 'Syncing…',
  syncNow: 'Sync now',
  uploadingPhotos: 'Uploading photos {done}/{total}',
  pushing: 'Sending {done}/{total}',
  pulling: 'Receiving {done}/{total}',
  search: 'Search name, code, pinyin initials',
  all: 'All',
  owned: 'Owned',
  coFollowed: 'Co-followed',
  shared: 'Shared with me',
  status: 'Status',
  grade: 'Grade',
  reclaimSoon: 'Reclaim soon',
  daysLeft: 'Reclaimed in {n} days',
  codePending: 'Code pending',
  noCustomers: 'No customers',
  newCustomer: 'New customer',
  name: 'Name',
  type: 'Type',
  industry: 'Industry',
  region: 'Region',
  address: 'Address',
  location: 'Location',
  useMyPosition: 'Use my position',
  taxId: 'Unified social credit code',
  contact: 'Contact',
  contactName: 'Contact name',
  contactTitle: 'Title',
  mobile: 'Mobile',
  save: 'Save',
  cancel: 'Cancel',
  duplicateWarning: 'Similar customers exist:',
  alreadyProtected: 'already protected',
  inPool: 'in the {pool} pool',
  offlineDupNote: 'Offline: the duplicate check will run when you are back online.',
  savedOffline: 'Saved; it will sync when you are online.',
  profile: 'Profile',
  missingFields: 'Missing: {fields}',
  contacts: 'Contacts',
  timeline: 'Activity',
  opportunities: 'Opportunities',
  accounts: 'Accounts',
  history: 'Change history',
  checkIn: 'Check in',
  followUp: 'Follow-up',
  takePhoto: 'Take photo',
  photos: '{n} photo(s)',
  position: 'Position',
  locating: 'Locating…',
  accuracy: '±{m} m',
  noPosition: 'No position available',
  purpose: 'Purpose',
  result: 'Result',
  nextStep: 'Next step',
  visit: 'Visit',
  verification: 'Verification',
  kind: 'Kind',
  content: 'Content',
  nextContact: 'Next contact',
  claim: 'Claim',
  claimed: 'Claimed (pending sync)',
  poolOnline: 'Pools are browsed online',
  rejections: 'Rejected actions',
  noRejections: 'No rejected actions',
  discard: 'Discard',
  editRetry: 'Edit and retry',
  requestInstead: 'Request instead',
  needsOnline: 'This needs a connection',
  language: 'Language',
  logoutWarn: '{n} item(s) are not synced yet. Signing out discards them for good. Sign out anyway?',
  logoutConfirm: 'Sign out anyway',
  logoutSafe: 'Sign out?',
  installHint: 'Add to your home screen to use it offline',
  install: 'Install',
  updateReady: 'A new version is ready',
  update: 'Update',
  storagePersisted: 'Storage on this phone is persistent',
  storageNotPersisted: 'The browser may clear data when space is low; install the app',
  reminders: 'Reminders',
  dueFollowUps: 'Follow-ups due today',
  reclaimWarnings: 'Reclaim warnings',
  notifications: 'Notifications',
  nothingToday: 'Nothing due today',
  stage: 'Stage',
  amount: 'Amount',
  deal: 'Deal',
  payment: 'Payment',
  dailyReport: 'Daily report',
  targets: 'My targets',
  summary: 'Summary',
  plan: "Tomorrow's plan",
  rejectedBecause: 'Rejected: {reason}',
  owner: 'Owner',
  code: 'Code',
  visits: 'Visits',
  lastVisit: 'Last visit',
  back: 'Back',
  pendingBadge: 'pending',
  required_: 'required',
  v_pending: 'Pending verification',
  v_verified: 'Verified',
  v_unverified: 'Unverified',
  v_suspect: 'Suspect',
  v_waiting: 'Verified after sync',
  st_potential: 'Potential',
  st_intent: 'Intent',
  st_signed: 'Signed',
  st_lost: 'Lost',
  t_direct: 'Direct',
  t_distributor: 'Distributor',
  fk_visit: 'Visit',
  fk_phone: 'Phone',
  fk_email: 'Email',
  fk_wechat: 'WeChat',
  fk_other: 'Other',
  invalidFollowUp: 'Invalid follow-up',
  nameTooShort: 'The name needs at least 2 characters',
  fillRequired: 'Fill in the required fields',
  transferredAway: 'Moved away',
};

export type MessageKey = keyof typeof zh;

export const messages: Record<Lang, Record<MessageKey, string>> = { 'zh-CN': zh, en };

/** Translate a key, filling `{name}` placeholders from params. */
export function t(lang: Lang, key: MessageKey, params: Record<string, string | number> = {}): string {
  return (messages[lang][key] ?? key).replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** Stable error codes (SPEC §12) in plain words. */
const errorsZh: Record<string, string> = {
  validation_failed: '填写的内容不符合要求',
  not_found: '记录不存在或已不可见',
  not_authorized: '你没有权限进行此操作（客户可能已转交或回收）',
  duplicate_customer: '已存在同名或同税号的客户：{name}（{owner}）',
  invalid_tax_id: '统一社会信用代码无效',
  quota_exceeded: '客户数量已达上限（{count}/{limit}）',
  not_in_pool: '该客户已不在公海中（可能已被他人申领）',
  cooldown_active: '退回或回收后的冷却期内不能再次申领（至 {until}）',
  cross_line_forbidden: '不能申领其他业务线的客户',
  receivables_outstanding: '客户有未收回款，不能执行此操作',
  stage_requirements_unmet: '进入该阶段的条件未满足：{missing}',
  invalid_period: '开始日期晚于结束日期',
  target_period_overlap: '指标期间与已有指标重叠',
  overpayment: '回款总额不能超过合同金额',
  id_conflict: '编号冲突，请重新创建',
  dependency_rejected: '依赖的操作已被拒绝',
  approval_required: '已提交审批',
  unknown: '未知错误',
};
const errorsEn: Record<string, string> = {
  validation_failed: 'Some fields are not valid',
  not_found: 'The record does not exist or is no longer visible to you',
  not_authorized: 'You may not do this (the customer may have been transferred or reclaimed)',
  duplicate_customer: 'A customer with this name or tax id exists: {name} ({owner})',
  invalid_tax_id: 'The unified social credit code is not valid',
  quota_exceeded: 'You hold the maximum number of customers ({count}/{limit})',
  not_in_pool: 'This customer is no longer in the pool (someone else claimed it first)',
  cooldown_active: 'You cannot claim it again during the cool-down (until {until})',
  cross_line_forbidden: 'You cannot claim customers of another business line',
  receivables_outstanding: 'The customer has receivables outstanding',
  stage_requirements_unmet: 'The stage needs: {missing}',
  invalid_period: 'The start date is after the end date',
  target_period_overlap: 'The period overlaps another target',
  overpayment: 'Payments may not exceed the contract amount',
  id_conflict: 'Id conflict; create it again',
  dependency_rejected: 'It depended on an action that was rejected',
  approval_required: 'Sent for approval',
  unknown: 'Unknown error',
};

export function errorText(lang: Lang, err: { code: string; message?: string; details?: Record<string, any> } | null | undefined): string {
  if (!err) return '';
  const table = lang === 'en' ? errorsEn : errorsZh;
  const d = err.details ?? {};
  const params: Record<string, string> = {
    name: d.name ?? '', owner: d.owner_display_name ?? d.owner ?? d.pool ?? '', count: String(d.count ?? ''),
    limit: String(d.limit ?? ''), until: d.until ? formatDate(lang, d.until) : '',
    missing: Array.isArray(d.missing) ? d.missing.join(', ') : '',
  };
  const tpl = table[err.code];
  if (!tpl) return err.message || table.unknown + ` (${err.code})`;
  return tpl.replace(/\{(\w+)\}/g, (_w, k: string) => params[k] ?? '');
}

const nf = new Map<string, Intl.NumberFormat>();
function numberFormat(lang: Lang, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = lang + JSON.stringify(opts);
  let f = nf.get(key);
  if (!f) nf.set(key, (f = new Intl.NumberFormat(lang, opts)));
  return f;
}

/** Integer fen → ¥ with two decimals, per locale. Never floats in storage; only here for display. */
export function formatMoney(lang: Lang, fen: number | null | undefined): string {
  const v = Number(fen ?? 0);
  const yuan = Math.trunc(v / 100);
  const cents = Math.abs(v % 100);
  const f = numberFormat(lang, { style: 'currency', currency: 'CNY', minimumFractionDigits: 2 });
  return f.format(Number(`${yuan}.${String(cents).padStart(2, '0')}`) * (v < 0 && yuan === 0 ? -1 : 1));
}

export function formatNumber(lang: Lang, n: number): string {
  return numberFormat(lang, {}).format(n);
}

export function formatDate(lang: Lang, iso: string | null | undefined, withTime = false): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(lang, withTime
    ? { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
    : { year: 'numeric', month: 'short', day: 'numeric' }).format(d);
}

/** Parse "12,345.67" / "12345" typed in yuan to integer fen without floating error. */
export function parseYuanToFen(text: string): number | null {
  const m = /^\s*(-?)(\d+)(?:\.(\d{0,2}))?\s*$/.exec(text.replace(/[,，\s¥]/g, ''));
  if (!m) return null;
  const fen = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0') || '0');
  return m[1] ? -fen : fen;
}
