// Compile-only check (`npm run typecheck-consumer`): the published declarations work for a
// TypeScript consumer that imports the package by name.
import {
  ClickClackClient,
  ClickClackError,
  type Message,
  type Event,
  type components,
  type paths,
  type Subscription,
} from '@clickclack/sdk';

type Assert<T extends true> = T;
export type _ReexportsMessage = Assert<Message extends components['schemas']['Message'] ? true : false>;
export type _HasPaths = Assert<'/api/me' extends keyof paths ? true : false>;

export async function example(baseUrl: string, token: string): Promise<void> {
  const cc = new ClickClackClient({ baseUrl, token, WebSocket: null });
  const me = await cc.me();
  const handle: string | null | undefined = me.handle;
  void handle;
  const [ws] = await cc.workspaces.list();
  const msg: Message = await cc.channels.sendMessage('chn_x', { body: 'hi' });
  const page = await cc.channels.messages('chn_x', { before_seq: 10, limit: 5 });
  const hasOlder: boolean = page.has_older;
  void hasOlder;
  await cc.threads.reply(msg.id, { body: 'reply' });
  const sub: Subscription = cc.events.subscribe({
    workspaceId: ws.id,
    onEvent: (e: Event) => {
      void e.cursor;
    },
    onResync: (info) => {
      void info.reason;
    },
  });
  sub.close();
  try {
    await cc.messages.get('msg_x');
  } catch (e) {
    if (e instanceof ClickClackError) {
      const s: number = e.status;
      const c: string = e.code;
      void s;
      void c;
    }
  }
}
