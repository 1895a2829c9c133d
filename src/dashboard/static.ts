import type { NestExpressApplication } from '@nestjs/platform-express';
import { join } from 'node:path';

/** The dashboard's files: src/dashboard/public in development, copied to dist/ by the build. */
export const DASHBOARD_DIR = join(__dirname, 'public');

/** Serves the dashboard at `/`. It is public: it holds no data, and asks for an API key itself. */
export function serveDashboard(app: NestExpressApplication): void {
  app.useStaticAssets(DASHBOARD_DIR, { index: 'index.html', maxAge: '5m' });
}
