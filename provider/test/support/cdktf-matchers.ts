import type { TerraformConstructor } from 'cdktf/lib/testing/matchers.js';

// cdktf's jest adapter declares its matchers on `jest.Matchers<R>`, but @types/jest 30 declares
// `Matchers<R, T>`; declarations with different type parameters do not merge, so the matchers are invisible to
// the type checker. This repeats them with the parameters @types/jest uses. Runtime: `Testing.setupJest()`.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars, @typescript-eslint/no-empty-object-type
    interface Matchers<R, T = {}> {
      toHaveResource(resourceConstructor: TerraformConstructor): R;
      toHaveResourceWithProperties(
        resourceConstructor: TerraformConstructor,
        properties: Record<string, unknown>,
      ): R;
      toHaveProvider(providerConstructor: TerraformConstructor): R;
      toHaveProviderWithProperties(
        providerConstructor: TerraformConstructor,
        properties: Record<string, unknown>,
      ): R;
      toBeValidTerraform(): R;
      toPlanSuccessfully(): R;
    }
  }
}
