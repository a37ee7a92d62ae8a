// placeholder until the train module lands
namespace otfuse {}
