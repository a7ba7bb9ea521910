// What the enumerator reads: Vietnamese first, English on the switch.
export const WORDS = {
  vi: {
    title: 'Ferry – Thu thập',
    enrolTitle: 'Đăng ký máy',
    enrolHelp: 'Nhập mã một lần do điều phối viên đưa, hoặc quét mã QR của họ.',
    code: 'Mã đăng ký',
    enrol: 'Đăng ký',
    enrolling: 'Đang đăng ký…',
    interviews: 'Phỏng vấn',
    outbox: 'Hộp thư đi',
    sync: 'Đồng bộ',
    newInterview: 'Phỏng vấn mới',
    readyOffline: '✓ dùng được khi không có mạng',
    needsNetwork: 'đang tải về… (cần mạng)',
    noForms: 'Chưa có biểu mẫu. Hãy đồng bộ khi có mạng.',
    assignments: 'Địa bàn được giao',
    noAssignments: 'Chưa có địa bàn được giao.',
    quota: 'chỉ tiêu',
    waiting: (n) => `${n} phỏng vấn đang chờ gửi`,
    lastSync: 'Lần đồng bộ thành công gần nhất',
    never: 'chưa lần nào',
    online: 'Có mạng',
    offline: 'Không có mạng – dữ liệu được lưu trên máy',
    syncNow: 'Đồng bộ ngay',
    syncing: 'Đang đồng bộ…',
    synced: (n) => (n ? `Đã gửi ${n} phỏng vấn.` : 'Không có gì mới để gửi.'),
    retryAt: (t) => `Chưa gửi được (máy chủ không trả lời). Sẽ thử lại lúc ${t}; dữ liệu vẫn trên máy.`,
    revoked: 'Máy này đã bị thu hồi nên không thể gửi. Các phỏng vấn chưa gửi vẫn được giữ trên máy. Hãy gọi điều phối viên.',
    tokenInvalid: 'Mã truy cập của máy không còn hiệu lực. Các phỏng vấn chưa gửi vẫn được giữ. Hãy xin mã đăng ký mới.',
    refused: (d) => `Máy chủ từ chối: ${d}. Dữ liệu vẫn trên máy.`,
    filesRefused: (n) => `Máy chủ không nhận ${n} tệp (ảnh, ghi âm…): loại tệp hoặc kích thước không được phép. Tệp vẫn được giữ trên máy. Hãy báo điều phối viên.`,
    tooLarge: 'Một phỏng vấn quá lớn để gửi; nó vẫn được giữ trên máy. Hãy báo điều phối viên.',
    saved: 'Đã lưu phỏng vấn vào hộp thư đi.',
    back: 'Quay lại',
    keepAndLeave: 'Lưu nháp, quay lại',
    send: 'Gửi',
    sending: 'Đang lưu…',
    questionsWithErrors: (n) => `${n} câu hỏi cần sửa trước khi gửi:`,
    violation: { required: 'chưa trả lời (bắt buộc)', constraint: 'câu trả lời không hợp lệ' },
    drafts: (n) => `Phỏng vấn chưa xong (${n})`,
    resume: 'Làm tiếp',
    discard: 'Xoá bản nháp',
    discardConfirm: (title) => `Xoá bản nháp “${title}”? Các câu trả lời trong đó sẽ mất.`,
    emptyOutbox: 'Chưa có phỏng vấn nào.',
    status: {
      waiting: 'Đang chờ gửi',
      created: 'Đã nhận',
      duplicate: 'Đã nhận',
      quarantined: 'Bị giữ lại để xem xét',
      rejected: 'Bị từ chối (lỗi ứng dụng)',
      'op-id-reused': 'Bị từ chối (lỗi ứng dụng)',
    },
    savedAt: 'Lưu lúc',
    question: 'Câu hỏi',
    reasons: {
      'form-unknown': 'Máy chủ chưa có phiên bản biểu mẫu này. Điều phối viên sẽ phát hành nó; không cần làm lại.',
      'form-draft': 'Phiên bản biểu mẫu này còn là bản nháp trên máy chủ. Điều phối viên sẽ xử lý; không cần làm lại.',
      'form-closed': 'Phiên bản biểu mẫu này đã đóng, không nhận thêm phỏng vấn. Điều phối viên sẽ xem xét.',
      'submission-exists': 'Máy chủ đã có một phỏng vấn khác cùng mã. Điều phối viên sẽ xem xét.',
      'answers-invalid': 'Một số câu trả lời không hợp lệ theo biểu mẫu. Điều phối viên sẽ xem xét:',
      'instance-invalid': 'Máy chủ không đọc được phỏng vấn này. Hãy báo điều phối viên.',
    },
    keptSafe: 'Phỏng vấn vẫn được lưu trên máy chủ, không bị mất.',
    language: 'English',
  },
  en: {
    title: 'Ferry – Collect',
    enrolTitle: 'Enrol this device',
    enrolHelp: 'Type the one-time code your coordinator gave you, or scan their QR code.',
    code: 'Enrolment code',
    enrol: 'Enrol',
    enrolling: 'Enrolling…',
    interviews: 'Interviews',
    outbox: 'Outbox',
    sync: 'Sync',
    newInterview: 'New interview',
    readyOffline: '✓ works offline',
    needsNetwork: 'downloading… (needs a signal)',
    noForms: 'No forms yet. Sync when you have a signal.',
    assignments: 'Your assignments',
    noAssignments: 'No assignments yet.',
    quota: 'quota',
    waiting: (n) => `${n} waiting to send`,
    lastSync: 'Last successful sync',
    never: 'never',
    online: 'Online',
    offline: 'Offline – data is kept on this phone',
    syncNow: 'Sync now',
    syncing: 'Syncing…',
    synced: (n) => (n ? `Sent ${n} interviews.` : 'Nothing new to send.'),
    retryAt: (t) => `Not sent yet (the server did not answer). Will retry at ${t}; the data stays on this phone.`,
    revoked: 'This device has been revoked, so it cannot send. Unsent interviews are kept on it. Call your coordinator.',
    tokenInvalid: "This device's token is no longer valid. Unsent interviews are kept. Ask for a new enrolment code.",
    refused: (d) => `The server refused: ${d}. The data stays on this phone.`,
    filesRefused: (n) => `The server did not take ${n} file(s) (photos, recordings…): type or size not allowed. They stay on this phone. Tell your coordinator.`,
    tooLarge: 'One interview is too large to send; it stays on this phone. Tell your coordinator.',
    saved: 'Interview saved to the outbox.',
    back: 'Back',
    keepAndLeave: 'Keep as draft, back',
    send: 'Send',
    sending: 'Saving…',
    questionsWithErrors: (n) => (n === 1 ? '1 question to fix before sending:' : `${n} questions to fix before sending:`),
    violation: { required: 'not answered (required)', constraint: 'answer not accepted' },
    drafts: (n) => `Unfinished interviews (${n})`,
    resume: 'Continue',
    discard: 'Delete draft',
    discardConfirm: (title) => `Delete the draft “${title}”? Its answers will be lost.`,
    emptyOutbox: 'No interviews yet.',
    status: {
      waiting: 'Waiting to send',
      created: 'Received',
      duplicate: 'Received',
      quarantined: 'Held for review',
      rejected: 'Refused (app bug)',
      'op-id-reused': 'Refused (app bug)',
    },
    savedAt: 'Saved at',
    question: 'Question',
    reasons: {
      'form-unknown': 'The server does not have this form version yet. A coordinator will publish it; nothing to redo.',
      'form-draft': 'This form version is still a draft on the server. A coordinator will deal with it; nothing to redo.',
      'form-closed': 'This form version is closed and takes no more interviews. A coordinator will look at it.',
      'submission-exists': 'The server already has another interview with the same id. A coordinator will look at it.',
      'answers-invalid': 'Some answers are not valid under the form. A coordinator will look at them:',
      'instance-invalid': 'The server could not read this interview. Tell your coordinator.',
    },
    keptSafe: 'The interview is kept on the server; nothing is lost.',
    language: 'Tiếng Việt',
  },
};

/** Reasons about the interview as a whole (its form version, its id), not about one question. */
export const STRUCTURAL = new Set(['form-unknown', 'form-draft', 'form-closed', 'submission-exists',
  'submission-unknown', 'base-unknown', 'op-invalid', 'op-id-reused']);

function findQuestion(questions, name) {
  for (const question of questions || []) {
    if (question.name === name) return question;
    const inner = findQuestion(question.children || question.questions, name);
    if (inner) return inner;
  }
  return null;
}

function inLanguage(text, language) {
  if (!text || typeof text === 'string') return text || '';
  const key = Object.keys(text).find((k) => k.endsWith(`(${language})`)) || Object.keys(text)[0];
  return text[key];
}

/** Explain a quarantined result in plain words: the reason, and for each issue the question it concerns. */
export function explain(result, definition, language) {
  const words = WORDS[language];
  const reasons = result.reasons || [];
  const codes = new Set(reasons.map((r) => r.code));
  const structural = Object.keys(words.reasons).find((code) => code !== 'answers-invalid' && codes.has(code));
  const headline = words.reasons[structural || 'answers-invalid'];
  const details = structural ? [] : reasons.map((reason) => {
    const name = String(reason.pointer || '').split('/').filter(Boolean).pop();
    const question = name && definition ? findQuestion(definition.questions, name) : null;
    return {
      question: question ? inLanguage(question.label, language) || name : name || '',
      message: inLanguage(reason.message, language),
    };
  });
  return { headline, details };
}
