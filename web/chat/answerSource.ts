import { respond, type ChatReply } from '../../shared/chat';
import { knowledgeBase } from './knowledgeBase';

/**
 * Where the page gets its answers. Today: retrieval in the browser. This is the seam for the rest of
 * issue 7, where answers stream from the server over Socket.IO (optionally written by a language model
 * from the same passages); the page only depends on this signature.
 */
export async function answer(message: string): Promise<ChatReply> {
  return respond(knowledgeBase(), message);
}
