/** An SDK call's data, or its refusal thrown as a ConductorApiError (sdk/api-error.ts). */
import { apiErrorOf } from '../sdk/api-error.js';

export async function answer<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (data === undefined) throw apiErrorOf(response, error);
  return data;
}
