/** A Lua script the Redis queue runs: each lives in its own file under scripts/, with a header saying its contract. */
export interface RedisScript {
  name: string;
  source: string;
}
