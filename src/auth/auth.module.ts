import { Global, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiKeys } from './api-keys';
import { AuthFailures } from './auth-failures';

@Global()
@Module({
  providers: [
    {
      provide: ApiKeys,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const keys = new ApiKeys(config.API_KEYS);
        if (!keys.enabled && config.NODE_ENV !== 'test') {
          new Logger('Auth').warn('API_KEYS is not set: the service is open to anyone who can reach it, and every caller sees every job');
        }
        return keys;
      },
    },
  ],
  exports: [ApiKeys],
})
/**
 * Failed authentications are one count for HTTP and the WebSocket upgrade, so switching transports
 * buys no extra guesses; with a shared backend one count for every instance, so switching
 * instances buys none either (AuthFailures comes from the backend).
 */
export class AuthModule implements OnApplicationShutdown {
  constructor(private readonly failures: AuthFailures) {}

  onApplicationShutdown(): void {
    this.failures.close();
  }
}
