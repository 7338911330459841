import { Body, Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';

import { CurrentPrincipal, type Principal, Public } from '@relay/auth';

import { RegisterUserDto } from './dto/register-user.dto';
import { toUserResponse, type UserResponse } from './dto/user.response';
import { UsersService } from './users.service';

@Controller('auth')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Public()
  @Post('register')
  @HttpCode(HttpStatus.CREATED)
  async register(@Body() body: RegisterUserDto): Promise<UserResponse> {
    return toUserResponse(await this.users.register(body.email, body.password));
  }

  @Get('me')
  async me(@CurrentPrincipal() principal: Principal): Promise<UserResponse> {
    return toUserResponse(await this.users.get(principal.subject));
  }
}
