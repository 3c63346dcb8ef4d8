import { appStore } from "../adapters/app-store";
import { apiHandler, json } from "../http/api";

/** GET /apps: every registered app and its pipeline definition, by name. */
export const handler = apiHandler(async () => json(200, { apps: await appStore().list() }));
