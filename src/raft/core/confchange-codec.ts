// Encoding of ConfChange entries in the log. JSON keeps entries readable in dumps; membership
// changes are rare, so compactness does not matter here.

import { RaftError } from './errors.js';
import type { ConfChange, ConfChangeOp, ConfChangeSingle } from './types.js';

const OPS: ReadonlySet<string> = new Set<ConfChangeOp>(['addVoter', 'addLearner', 'removeNode']);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const obj: Record<string, unknown> = { changes: cc.changes.map((c) => ({ op: c.op, node: c.node })) };
  if (cc.transition) obj['transition'] = cc.transition;
  if (cc.context) obj['context'] = toHex(cc.context);
  return encoder.encode(JSON.stringify(obj));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  let obj: unknown;
  try {
    obj = JSON.parse(decoder.decode(data));
  } catch {
    throw new RaftError('INVALID_CONF_CHANGE', 'conf change entry is not valid JSON');
  }
  const o = obj as { changes?: unknown; transition?: unknown; context?: unknown };
  if (!Array.isArray(o.changes)) throw new RaftError('INVALID_CONF_CHANGE', 'conf change without a changes list');
  const changes: ConfChangeSingle[] = o.changes.map((c: { op?: unknown; node?: unknown }) => {
    if (typeof c.op !== 'string' || !OPS.has(c.op) || typeof c.node !== 'string') {
      throw new RaftError('INVALID_CONF_CHANGE', `bad conf change item ${JSON.stringify(c)}`);
    }
    return { op: c.op as ConfChangeOp, node: c.node };
  });
  const t = o.transition;
  if (t !== undefined && t !== 'auto' && t !== 'joint' && t !== 'jointExplicit') {
    throw new RaftError('INVALID_CONF_CHANGE', `bad transition ${String(t)}`);
  }
  return {
    changes,
    ...(t !== undefined ? { transition: t } : {}),
    ...(typeof o.context === 'string' ? { context: fromHex(o.context) } : {}),
  };
}

function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}
