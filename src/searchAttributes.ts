import type { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from './workflows/definitions';

/**
 * The mapping workflow's search attributes the namespace lacks (README, "Deploying"): without
 * them Temporal refuses to start a mapping's workflow.
 */
export async function missingSearchAttributes(
  operatorService: Connection['operatorService'],
  namespace: string,
  keys: readonly { readonly name: string }[] = SEARCH_ATTRIBUTES,
): Promise<string[]> {
  const { customAttributes } = await operatorService.listSearchAttributes({ namespace });
  return keys.map((key) => key.name).filter((name) => !(name in (customAttributes ?? {})));
}
