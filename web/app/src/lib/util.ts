// Small helpers shared by components.

import type { DirectConversation, Message, User } from './types';

/** A retry-safe nonce that works outside secure contexts too. */
export function makeNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return 'web-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const PALETTE = ['#e8604c', '#1f7a8c', '#c9803b', '#6c5b9e', '#2f8f5b', '#b5485d', '#3d6fb6'];

export function colorFor(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return '?';
  const first = Array.from(parts[0])[0] ?? '?';
  const second = parts.length > 1 ? (Array.from(parts[parts.length - 1])[0] ?? '') : '';
  return (first + second).toUpperCase();
}

export function timeOf(iso: string): string {
  const d = new Date(iso);
  return d.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
}

export function fullTime(iso: string): string {
  return new Date(iso).toLocaleString([], {
    dateStyle: 'medium',
    timeStyle: 'short',
  });
}

export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

export function dayLabel(iso: string): string {
  const d = new Date(iso);
  const today = new Date();
  const yesterday = new Date();
  yesterday.setDate(today.getDate() - 1);
  if (dayKey(iso) === dayKey(today.toISOString())) return 'Today';
  if (dayKey(iso) === dayKey(yesterday.toISOString())) return 'Yesterday';
  return d.toLocaleDateString([], {
    weekday: 'long',
    month: 'long',
    day: 'numeric',
    year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric',
  });
}

/** Consecutive messages by one author within five minutes on one day read as one group. */
export function continues(prev: Message | undefined, m: Message): boolean {
  if (!prev || prev.author_id !== m.author_id) return false;
  if (dayKey(prev.created_at) !== dayKey(m.created_at)) return false;
  if (m.quoted_message_id) return false;
  return Date.parse(m.created_at) - Date.parse(prev.created_at) < 5 * 60 * 1000;
}

export function dmTitle(dm: DirectConversation, meId: string): string {
  const others = dm.members.filter((u) => u.id !== meId);
  if (!others.length) return (dm.members[0]?.display_name ?? 'You') + ' (you)';
  return others.map((u) => u.display_name).join(', ');
}

export function dmPeer(dm: DirectConversation, meId: string): User | undefined {
  return dm.members.find((u) => u.id !== meId) ?? dm.members[0];
}

export function seqOf(m: Message): number {
  return m.channel_seq ?? 0;
}

export function isEditableTarget(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.tagName) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
}

/** Splits a snippet into plain and highlighted parts; offsets are code points. */
export function highlightParts(
  snippet: string,
  highlights: { start: number; end: number }[],
): { text: string; hit: boolean }[] {
  const chars = Array.from(snippet);
  const sorted = [...(highlights ?? [])].sort((a, b) => a.start - b.start);
  const out: { text: string; hit: boolean }[] = [];
  let pos = 0;
  for (const h of sorted) {
    const start = Math.max(pos, Math.min(h.start, chars.length));
    const end = Math.max(start, Math.min(h.end, chars.length));
    if (start > pos) out.push({ text: chars.slice(pos, start).join(''), hit: false });
    if (end > start) out.push({ text: chars.slice(start, end).join(''), hit: true });
    pos = end;
  }
  if (pos < chars.length) out.push({ text: chars.slice(pos).join(''), hit: false });
  return out;
}
