/* Small HTML building blocks for the demo pages: everything interpolated goes through escapeHtml. */

export const escapeHtml = (value: string | number): string =>
  String(value).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font-family:-apple-system,"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;background:#f3f4f6;color:#111;line-height:1.45}
header{background:#1f6feb;color:#fff;padding:14px 16px}
header h1{margin:0;font-size:18px}
.en{color:#888;font-size:12px;font-weight:normal;display:block}
header .en{color:#dbe7ff}
main{max-width:480px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:10px;padding:16px;margin-bottom:16px}
.card>:first-child,#error>:first-child{margin-top:0}
.card>:last-child,#error>:last-child{margin-bottom:0}
.field{margin-bottom:14px}
label{display:block;font-size:15px;margin-bottom:4px}
input{width:100%;font-size:16px;padding:10px;border:1px solid #ccc;border-radius:6px;background:#fff}
input[readonly]{background:#f6f6f6;color:#555}
.hint{color:#888;font-size:12px;margin:4px 0 0}
.issue{color:#c62828;font-size:13px;margin:4px 0 0}
.field.bad input{border-color:#c62828}
button{width:100%;padding:13px;font-size:17px;border:0;border-radius:6px;background:#07c160;color:#fff}
button:disabled{background:#9ad9b6}
button .en{color:#e8fff1}
h2{margin:0 0 8px;font-size:17px}
#bookings{list-style:none;margin:12px 0 0;padding:0}
.booking{border-top:1px solid #eee;padding:8px 0}
.booking p{margin:0 0 6px}
.booking-state{font-family:ui-monospace,Menlo,monospace}
button.advance{background:#1f6feb;margin-bottom:6px}
#repayment-error{border-left:4px solid #c62828;background:#fff4f4;padding:12px;border-radius:6px;margin-top:12px;word-break:break-all}
#error{border-left:4px solid #c62828;background:#fff4f4;padding:12px;border-radius:6px;margin-bottom:16px}
#error ul{margin:8px 0 0;padding-left:20px}
.notice{border-left:4px solid #1f6feb;background:#eef4ff;padding:12px;border-radius:6px;margin-bottom:16px}
#state{font-size:24px;font-family:ui-monospace,Menlo,monospace}
dl{margin:0}dt{color:#888;font-size:12px;margin-top:10px}dd{margin:2px 0 0;word-break:break-all}
code{font-family:ui-monospace,Menlo,monospace;font-size:13px}
a{color:#1f6feb}
footer{color:#999;font-size:12px;text-align:center;padding:8px 16px 24px}
`;

export interface Layout {
  title: string;
  titleEn: string;
  body: string;
  /** A static script: it reads its inputs from data attributes, never from interpolated code. */
  script: string;
  footer: string;
}

export function layout(page: Layout): string {
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)} / ${escapeHtml(page.titleEn)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escapeHtml(page.title)}<span class="en">${escapeHtml(page.titleEn)}</span></h1></header>
<main>
${page.body}
</main>
<footer>${page.footer}</footer>
<script>${page.script}</script>
</body>
</html>
`;
}

export interface Field {
  name: string;
  /** JSON pointer of the API field it fills: API errors for that pointer are shown next to it. */
  pointer: string;
  label: string;
  labelEn: string;
  value: string | number;
  type?: 'text' | 'number';
  hint?: string;
  readonly?: boolean;
  inputmode?: 'numeric' | 'decimal';
}

export function field(f: Field): string {
  const id = `f-${f.name}`;
  const attrs = [
    `id="${id}"`,
    `name="${escapeHtml(f.name)}"`,
    `type="${f.type ?? 'text'}"`,
    `value="${escapeHtml(f.value)}"`,
    'autocomplete="off"',
    f.readonly ? 'readonly' : '',
    f.inputmode ? `inputmode="${f.inputmode}"` : '',
  ].filter(Boolean);
  return `<div class="field" data-pointer="${escapeHtml(f.pointer)}">
<label for="${id}">${escapeHtml(f.label)}<span class="en">${escapeHtml(f.labelEn)}</span></label>
<input ${attrs.join(' ')}>
${f.hint ? `<p class="hint" id="${id}-hint">${escapeHtml(f.hint)}</p>` : ''}
<p class="issue" hidden></p>
</div>`;
}

export const footer = (apiUrl: string): string =>
  `本地演示页，仅在本地运行 / Local demo page, never deployed · API <code>${escapeHtml(apiUrl)}</code> · <a href="/openapi.json">openapi.json</a>`;
