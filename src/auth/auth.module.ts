import { Global, Logger, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiKeys } from './api-keys';

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
export class AuthModule {}
