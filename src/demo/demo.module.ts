import { Module } from '@nestjs/common';
import { DemoController } from './demo.controller';
import { DemoPage } from './demo-page';

/** The example host app's routes (`/demo/*`) and the demo page at `/`. */
@Module({ controllers: [DemoController], providers: [DemoPage] })
export class DemoModule {}
