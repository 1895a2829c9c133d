import { type DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule, ConfigService } from '@nestjs/config';
import { APP_CONFIG } from './app-config';
import { configSchema, loadConfig, type AppConfig } from './config.schema';

export type Env = Record<string, string | undefined>;

/**
 * Validates the environment once at boot through @nestjs/config (a bad value stops startup
 * with a message naming the variable and its rule) and makes the typed result injectable
 * everywhere as APP_CONFIG.
 */
@Global()
@Module({})
export class ConfigModule {
  /** `env` replaces the process environment (tests); by default process.env is read. */
  static forRoot(env?: Env): DynamicModule {
    return {
      module: ConfigModule,
      imports: [
        NestConfigModule.forRoot({
          ignoreEnvFile: true,
          ignoreEnvVars: env !== undefined,
          cache: true,
          validate: (given) => loadConfig({ ...given, ...env }),
        }),
      ],
      providers: [
        {
          provide: APP_CONFIG,
          inject: [ConfigService],
          useFactory: (service: ConfigService): AppConfig => Object.fromEntries(Object.keys(configSchema.shape).map((key) => [key, service.get(key)])) as AppConfig,
        },
      ],
      exports: [APP_CONFIG],
    };
  }
}
