import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG } from './app-config';
import { type AppConfig, loadConfig } from './config.schema';

export type Env = Record<string, string | undefined>;

/**
 * Validates the environment once at boot (a bad value stops startup with a message naming the
 * variable and its rule) and makes the typed result injectable everywhere as APP_CONFIG. An app
 * reads only the environment it is given and writes nothing back: @nestjs/config, used here
 * before, copied every validated setting into process.env and read process.env for any setting an
 * app was not given, so an embedded app made after a cluster app in the same process (a test file
 * running both modes) took the first one's REDIS_URL and answered 503 once that Redis was gone.
 */
@Global()
@Module({})
export class ConfigModule {
  /** `env` replaces the process environment (tests); by default process.env is read. */
  static forRoot(env?: Env): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useFactory: (): AppConfig => loadConfig(env ?? process.env) }],
      exports: [APP_CONFIG],
    };
  }
}
