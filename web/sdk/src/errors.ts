/**
 * Every failed call throws a `ClickClackError`.
 *
 * - HTTP errors: `status` is the response status, `code` the stable `code` of the JSON error
 *   body (`not_found`, `author_required`, `resync_required`, …) and `message` its `error`
 *   text. A body that is not JSON gives `code: "http_<status>"` and the raw text.
 * - Network failures (no response): `status` 0, `code` `"network_error"`, the original
 *   error in `cause`.
 * - Aborted calls (an `AbortSignal` fired): `status` 0, `code` `"aborted"`.
 */
export class ClickClackError extends Error {
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;
  /** Stable snake_case code from the error body (or `network_error`, `aborted`, `http_<status>`). */
  readonly code: string;
  /** The parsed JSON error body, when there was one (e.g. `epoch` for `resync_required`). */
  readonly body: Record<string, unknown> | undefined;
  /** Seconds from a `Retry-After` header (429, 503), when present. */
  readonly retryAfter: number | undefined;

  constructor(
    message: string,
    init: {
      status: number;
      code: string;
      body?: Record<string, unknown>;
      retryAfter?: number;
      cause?: unknown;
    },
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ClickClackError';
    this.status = init.status;
    this.code = init.code;
    this.body = init.body;
    this.retryAfter = init.retryAfter;
  }

  /** The database epoch a `resync_required` error reports. */
  get epoch(): string | undefined {
    const e = this.body?.epoch;
    return typeof e === 'string' ? e : undefined;
  }

  /** True for failures worth retrying: no response, 5xx (except 501), 408 and 429. */
  get transient(): boolean {
    if (this.code === 'aborted') return false;
    if (this.status === 0) return true;
    return (this.status >= 500 && this.status !== 501) || this.status === 408 || this.status === 429;
  }

  /** Builds the error for a non-OK response (reads its body). */
  static async fromResponse(res: Response): Promise<ClickClackError> {
    let text = '';
    try {
      text = await res.text();
    } catch {
      /* body unreadable: keep the status */
    }
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = text ? JSON.parse(text) : undefined;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        body = parsed as Record<string, unknown>;
      }
    } catch {
      /* not JSON */
    }
    const message =
      typeof body?.error === 'string' ? body.error : text || `HTTP ${res.status} ${res.statusText}`.trim();
    const code = typeof body?.code === 'string' ? body.code : `http_${res.status}`;
    const ra = res.headers.get('retry-after');
    const retryAfter = ra !== null && /^\d+$/.test(ra.trim()) ? Number(ra.trim()) : undefined;
    return new ClickClackError(message, { status: res.status, code, body, retryAfter });
  }

  /** Wraps a thrown fetch/WebSocket failure. */
  static network(cause: unknown, what: string): ClickClackError {
    if (isAbort(cause)) {
      return new ClickClackError(`${what} was aborted`, { status: 0, code: 'aborted', cause });
    }
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new ClickClackError(`${what} failed: ${detail}`, { status: 0, code: 'network_error', cause });
  }
}

/** Whether an error is an abort (AbortSignal, DOMException AbortError). */
export function isAbort(e: unknown): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    ((e as { name?: string }).name === 'AbortError' || (e as { code?: string }).code === 'aborted')
  );
}
