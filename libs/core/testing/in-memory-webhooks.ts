import { type NewWebhookEvent } from '../webhook/webhook.repository';
import { type WebhookService } from '../webhook/webhook.service';

/** The event-recording side of WebhookService in memory: what services recorded, and wake-ups. */
export class InMemoryWebhookEvents {
  readonly recorded: Array<Omit<NewWebhookEvent, 'type'> & { action: string }> = [];
  wakes = 0;

  get asService(): WebhookService {
    return {
      recordAction: async (action: string, e: Omit<NewWebhookEvent, 'type'>) =>
        void this.recorded.push({ ...e, action }),
      announced: () => void this.wakes++,
    } as unknown as WebhookService;
  }
}
