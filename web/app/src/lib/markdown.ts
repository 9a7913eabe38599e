// Markdown → safe HTML. Raw HTML in a message is escaped (shown as text, never parsed), the
// output is sanitized by DOMPurify against a small allow-list, and links open in a new tab
// without an opener. `@handle` mentions become highlighted spans.

import { Marked, type Tokens } from 'marked';
import DOMPurify from 'dompurify';

const ESC: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c]);
}

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
});

marked.use({
  renderer: {
    // Raw HTML blocks and inline tags render as literal text.
    html(token: Tokens.HTML | Tokens.Tag) {
      const text = escapeHtml(token.text.replace(/\n+$/, ''));
      return 'block' in token && token.block ? `<p>${text}</p>` : text;
    },
    heading(token: Tokens.Heading) {
      // Chat messages don't need page-sized headings: keep them bold and compact.
      return `<p class="md-h md-h${token.depth}"><strong>${this.parser.parseInline(token.tokens)}</strong></p>`;
    },
    image(token: Tokens.Image) {
      // No remote images (tracking pixels); show the link instead.
      const label = escapeHtml(token.text || token.href);
      return `<a href="${escapeHtml(token.href)}">${label}</a>`;
    },
  },
  extensions: [
    {
      name: 'mention',
      level: 'inline',
      start(src: string) {
        const i = src.search(/(^|[^\w@])@[a-z0-9_-]{2,32}/i);
        return i < 0 ? undefined : i + (src[i] === '@' ? 0 : 1);
      },
      tokenizer(src: string) {
        const m = /^@([a-z0-9_-]{2,32})/i.exec(src);
        if (m) return { type: 'mention', raw: m[0], handle: m[1] };
        return undefined;
      },
      renderer(token) {
        return `<span class="mention">@${escapeHtml(String(token.handle))}</span>`;
      },
    },
  ],
});

const ALLOWED_TAGS = [
  'a',
  'b',
  'blockquote',
  'br',
  'code',
  'del',
  'em',
  'hr',
  'i',
  'li',
  'ol',
  'p',
  'pre',
  's',
  'span',
  'strong',
  'table',
  'tbody',
  'td',
  'th',
  'thead',
  'tr',
  'ul',
  'input',
];
const ALLOWED_ATTR = ['href', 'title', 'class', 'type', 'checked', 'disabled', 'align'];

let hooked = false;
function hook(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A') {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
    if (node.tagName === 'INPUT') {
      if (node.getAttribute('type') !== 'checkbox') node.remove();
      else node.setAttribute('disabled', '');
    }
  });
}

const cache = new Map<string, string>();

export function renderMarkdown(body: string): string {
  const hit = cache.get(body);
  if (hit !== undefined) return hit;
  hook();
  const raw = marked.parse(body) as string;
  const clean = DOMPurify.sanitize(raw, {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|\/|#)/i,
  }) as string;
  if (cache.size > 2000) cache.clear();
  cache.set(body, clean);
  return clean;
}

/** Plain text preview for quotes and notifications. */
export function plainPreview(body: string, max = 140): string {
  const text = body
    .replace(/```[\s\S]*?```/g, ' [code] ')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/^\s{0,3}(#{1,6}|>|[-*+]|\d+\.)\s+/gm, '')
    .replace(/(\*\*|__|~~|`)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}
